(* Vectors in R^W (THEORY.md sections 1 and 3; FORMAL_PLAN.md "Vectors as
   functions"): a parameter vector is a function nat -> R whose dimension W is
   carried by the network; a perturbation h is "in R^W" when it vanishes from W
   on.  Max norm, dot product, coordinate update and unit vectors. *)
From Coq Require Import Reals Lra List.
Import ListNotations.
Open Scope R_scope.

Definition vec := nat -> R.

Definition upd (w : vec) (p : nat) (t : R) : vec :=
  fun i => if Nat.eq_dec i p then t else w i.

Definition vadd (w h : vec) : vec := fun i => w i + h i.
Definition vscale (c : R) (h : vec) : vec := fun i => c * h i.
Definition vzero : vec := fun _ => 0.
Definition unit_vec (p : nat) : vec := fun i => if Nat.eq_dec i p then 1 else 0.

(* h lives in R^W *)
Definition supported (W : nat) (h : vec) : Prop := forall i, (W <= i)%nat -> h i = 0.

Definition norm_max (W : nat) (h : vec) : R :=
  fold_right Rmax 0 (map (fun i => Rabs (h i)) (seq 0 W)).

Definition dot (W : nat) (g h : vec) : R :=
  fold_right Rplus 0 (map (fun i => g i * h i) (seq 0 W)).

(* ------------------------------------------------------------------------- *)
(* Basic facts.  The only axiom beyond Coq's classical reals is functional
   extensionality, used for the equalities of vectors [upd_vadd_unit] and
   [vadd_vzero_r] (vectors are functions, so an arbitrary [f : vec -> R] need
   not respect pointwise equality without it). *)

From Coq Require Import FunctionalExtensionality Lia.

Definition sum_abs (W : nat) (g : vec) : R :=
  fold_right Rplus 0 (map (fun i => Rabs (g i)) (seq 0 W)).

(* Coordinate update *)

Lemma upd_same w p t : upd w p t p = t.
Proof. unfold upd; destruct (Nat.eq_dec p p); congruence. Qed.

Lemma upd_other w p t i : i <> p -> upd w p t i = w i.
Proof. intros H; unfold upd; destruct (Nat.eq_dec i p); congruence. Qed.

Lemma vadd_scale_unit_pointwise w p t i :
  vadd w (vscale t (unit_vec p)) i = upd w p (w p + t) i.
Proof.
  unfold vadd, vscale, unit_vec, upd; destruct (Nat.eq_dec i p) as [->|_]; ring.
Qed.

Lemma upd_vadd_unit w p t : upd w p (w p + t) = vadd w (vscale t (unit_vec p)).
Proof. apply functional_extensionality; intros i; now rewrite vadd_scale_unit_pointwise. Qed.

Lemma upd_id w p : upd w p (w p) = w.
Proof.
  apply functional_extensionality; intros i; unfold upd.
  destruct (Nat.eq_dec i p) as [->|_]; reflexivity.
Qed.

Lemma vadd_vzero_r w : vadd w vzero = w.
Proof. apply functional_extensionality; intros i; unfold vadd, vzero; ring. Qed.

Lemma vscale_0_l h : vscale 0 h = vzero.
Proof. apply functional_extensionality; intros i; unfold vscale, vzero; ring. Qed.

(* Supported vectors *)

Lemma supported_vzero W : supported W vzero.
Proof. intros i _; reflexivity. Qed.

Lemma supported_unit_vec W p : (p < W)%nat -> supported W (unit_vec p).
Proof.
  intros Hp i Hi; unfold unit_vec; destruct (Nat.eq_dec i p); [lia|reflexivity].
Qed.

Lemma supported_vscale W c h : supported W h -> supported W (vscale c h).
Proof. intros H i Hi; unfold vscale; rewrite H by exact Hi; ring. Qed.

Lemma supported_vadd W g h : supported W g -> supported W h -> supported W (vadd g h).
Proof. intros Hg Hh i Hi; unfold vadd; rewrite Hg, Hh by exact Hi; ring. Qed.

(* Unfolding the last coordinate *)

Lemma fold_right_Rmax_last (l : list R) a b :
  fold_right Rmax (Rmax b a) l = Rmax (fold_right Rmax b l) a.
Proof. induction l as [|x l IH]; simpl; [reflexivity|now rewrite IH, Rmax_assoc]. Qed.

Lemma fold_right_Rplus_last (l : list R) a b :
  fold_right Rplus (b + a) l = fold_right Rplus b l + a.
Proof. induction l as [|x l IH]; simpl; [reflexivity|rewrite IH; ring]. Qed.

Lemma norm_max_0 h : norm_max 0 h = 0.
Proof. reflexivity. Qed.

Lemma norm_max_S W h : norm_max (S W) h = Rmax (norm_max W h) (Rabs (h W)).
Proof.
  unfold norm_max; rewrite seq_S, map_app, fold_right_app; simpl.
  rewrite <- fold_right_Rmax_last; f_equal.
  rewrite Rmax_left, Rmax_right by apply Rabs_pos; reflexivity.
Qed.

Lemma dot_0 g h : dot 0 g h = 0.
Proof. reflexivity. Qed.

Lemma dot_S W g h : dot (S W) g h = dot W g h + g W * h W.
Proof.
  unfold dot; rewrite seq_S, map_app, fold_right_app; simpl.
  rewrite <- fold_right_Rplus_last; f_equal; ring.
Qed.

Lemma sum_abs_S W g : sum_abs (S W) g = sum_abs W g + Rabs (g W).
Proof.
  unfold sum_abs; rewrite seq_S, map_app, fold_right_app; simpl.
  rewrite <- fold_right_Rplus_last; f_equal; ring.
Qed.

Lemma sum_abs_nonneg W g : 0 <= sum_abs W g.
Proof.
  induction W as [|W IH]; [unfold sum_abs; simpl; lra|].
  rewrite sum_abs_S; pose proof (Rabs_pos (g W)); lra.
Qed.

(* Max norm *)

Lemma norm_max_nonneg W h : 0 <= norm_max W h.
Proof.
  induction W as [|W IH]; [unfold norm_max; simpl; lra|].
  rewrite norm_max_S; eapply Rle_trans; [exact IH|apply Rmax_l].
Qed.

Lemma norm_max_coord W h i : (i < W)%nat -> Rabs (h i) <= norm_max W h.
Proof.
  induction W as [|W IH]; intros Hi; [lia|].
  rewrite norm_max_S; destruct (Nat.eq_dec i W) as [->|Hne].
  - apply Rmax_r.
  - eapply Rle_trans; [apply IH; lia|apply Rmax_l].
Qed.

Lemma norm_max_le W h c :
  0 <= c -> (forall i, (i < W)%nat -> Rabs (h i) <= c) -> norm_max W h <= c.
Proof.
  intros Hc; induction W as [|W IH]; intros H; [unfold norm_max; simpl; lra|].
  rewrite norm_max_S; apply Rmax_lub; [apply IH; intros i Hi; apply H; lia|apply H; lia].
Qed.

Lemma norm_max_lt W h c :
  0 < c -> (forall i, (i < W)%nat -> Rabs (h i) < c) -> norm_max W h < c.
Proof.
  intros Hc; induction W as [|W IH]; intros H; [unfold norm_max; simpl; lra|].
  rewrite norm_max_S; apply Rmax_lub_lt; [apply IH; intros i Hi; apply H; lia|apply H; lia].
Qed.

Lemma norm_max_ext W g h :
  (forall i, (i < W)%nat -> g i = h i) -> norm_max W g = norm_max W h.
Proof.
  induction W as [|W IH]; intros H; [reflexivity|].
  rewrite !norm_max_S, H by lia; rewrite IH; [reflexivity|intros i Hi; apply H; lia].
Qed.

Lemma norm_max_le_sum_abs W h : norm_max W h <= sum_abs W h.
Proof.
  induction W as [|W IH]; [unfold norm_max, sum_abs; simpl; lra|].
  rewrite norm_max_S, sum_abs_S.
  pose proof (Rabs_pos (h W)); pose proof (sum_abs_nonneg W h).
  apply Rmax_lub; lra.
Qed.

(* The sum bound for supported vectors, over any dimension W' >= W *)
Lemma norm_max_supported_le_sum W W' h :
  supported W h -> (W <= W')%nat -> norm_max W' h <= sum_abs W h.
Proof.
  intros Hs HW; apply norm_max_le; [apply sum_abs_nonneg|].
  intros i Hi; destruct (Nat.lt_ge_cases i W) as [Hl|Hge].
  - eapply Rle_trans; [apply norm_max_coord, Hl|apply norm_max_le_sum_abs].
  - rewrite Hs, Rabs_R0 by exact Hge; apply sum_abs_nonneg.
Qed.

Lemma norm_max_vzero W : norm_max W vzero = 0.
Proof.
  apply Rle_antisym; [|apply norm_max_nonneg].
  apply norm_max_le; [lra|]; intros i _; unfold vzero; rewrite Rabs_R0; lra.
Qed.

Lemma norm_max_vscale W c h : norm_max W (vscale c h) = Rabs c * norm_max W h.
Proof.
  induction W as [|W IH]; [unfold norm_max; simpl; ring|].
  rewrite !norm_max_S, IH; unfold vscale; rewrite Rabs_mult.
  pose proof (Rabs_pos c); pose proof (Rabs_pos (h W)); pose proof (norm_max_nonneg W h).
  destruct (Rle_dec (norm_max W h) (Rabs (h W))).
  - rewrite !Rmax_right; [reflexivity| |]; nra.
  - rewrite !Rmax_left; [reflexivity| |]; nra.
Qed.

Lemma norm_max_unit_vec W p : (p < W)%nat -> norm_max W (unit_vec p) = 1.
Proof.
  intros Hp; apply Rle_antisym.
  - apply norm_max_le; [lra|]; intros i _; unfold unit_vec.
    destruct (Nat.eq_dec i p); rewrite ?Rabs_R1, ?Rabs_R0; lra.
  - pose proof (norm_max_coord W (unit_vec p) p Hp) as H.
    unfold unit_vec in H; destruct (Nat.eq_dec p p); [|congruence].
    rewrite Rabs_R1 in H; exact H.
Qed.

Lemma norm_max_scale_unit W p t : (p < W)%nat -> norm_max W (vscale t (unit_vec p)) = Rabs t.
Proof. intros Hp; rewrite norm_max_vscale, norm_max_unit_vec by exact Hp; ring. Qed.

Lemma norm_max_triangle W g h : norm_max W (vadd g h) <= norm_max W g + norm_max W h.
Proof.
  apply norm_max_le.
  - pose proof (norm_max_nonneg W g); pose proof (norm_max_nonneg W h); lra.
  - intros i Hi; unfold vadd; eapply Rle_trans; [apply Rabs_triang|].
    pose proof (norm_max_coord W g i Hi); pose proof (norm_max_coord W h i Hi); lra.
Qed.

(* Dot product *)

Lemma dot_ext W g g' h h' :
  (forall i, (i < W)%nat -> g i = g' i) -> (forall i, (i < W)%nat -> h i = h' i) ->
  dot W g h = dot W g' h'.
Proof.
  induction W as [|W IH]; intros Hg Hh; [reflexivity|].
  rewrite !dot_S, Hg, Hh by lia; rewrite IH; [reflexivity|intros i Hi; apply Hg; lia|intros i Hi; apply Hh; lia].
Qed.

Lemma dot_comm W g h : dot W g h = dot W h g.
Proof. induction W as [|W IH]; [reflexivity|]; rewrite !dot_S, IH; ring. Qed.

Lemma dot_vadd_r W g h1 h2 : dot W g (vadd h1 h2) = dot W g h1 + dot W g h2.
Proof. induction W as [|W IH]; [unfold dot; simpl; ring|]; rewrite !dot_S, IH; unfold vadd; ring. Qed.

Lemma dot_vadd_l W g1 g2 h : dot W (vadd g1 g2) h = dot W g1 h + dot W g2 h.
Proof. induction W as [|W IH]; [unfold dot; simpl; ring|]; rewrite !dot_S, IH; unfold vadd; ring. Qed.

Lemma dot_vscale_r W g c h : dot W g (vscale c h) = c * dot W g h.
Proof. induction W as [|W IH]; [unfold dot; simpl; ring|]; rewrite !dot_S, IH; unfold vscale; ring. Qed.

Lemma dot_vscale_l W c g h : dot W (vscale c g) h = c * dot W g h.
Proof. induction W as [|W IH]; [unfold dot; simpl; ring|]; rewrite !dot_S, IH; unfold vscale; ring. Qed.

Lemma dot_vzero_r W g : dot W g vzero = 0.
Proof. induction W as [|W IH]; [reflexivity|]; rewrite dot_S, IH; unfold vzero; ring. Qed.

Lemma dot_vzero_l W h : dot W vzero h = 0.
Proof. induction W as [|W IH]; [reflexivity|]; rewrite dot_S, IH; unfold vzero; ring. Qed.

Lemma dot_unit_vec_r W g p : (p < W)%nat -> dot W g (unit_vec p) = g p.
Proof.
  induction W as [|W IH]; intros Hp; [lia|]; rewrite dot_S; unfold unit_vec at 2.
  destruct (Nat.eq_dec W p) as [->|Hne].
  - rewrite (dot_ext p g g (unit_vec p) vzero), dot_vzero_r; [ring|reflexivity|].
    intros i Hi; unfold unit_vec, vzero; destruct (Nat.eq_dec i p); [lia|reflexivity].
  - rewrite IH by lia; ring.
Qed.

Lemma dot_unit_vec_l W h p : (p < W)%nat -> dot W (unit_vec p) h = h p.
Proof. intros Hp; rewrite dot_comm; now apply dot_unit_vec_r. Qed.

Lemma dot_bound W g h : Rabs (dot W g h) <= sum_abs W g * norm_max W h.
Proof.
  induction W as [|W IH]; [unfold dot, sum_abs; simpl; rewrite Rabs_R0; lra|].
  rewrite dot_S, sum_abs_S, norm_max_S.
  eapply Rle_trans; [apply Rabs_triang|]; rewrite Rabs_mult.
  pose proof (Rmax_l (norm_max W h) (Rabs (h W))); pose proof (Rmax_r (norm_max W h) (Rabs (h W))).
  pose proof (sum_abs_nonneg W g); pose proof (Rabs_pos (g W)).
  pose proof (Rabs_pos (h W)); pose proof (norm_max_nonneg W h).
  assert (sum_abs W g * norm_max W h <= sum_abs W g * Rmax (norm_max W h) (Rabs (h W))) by
    (apply Rmult_le_compat_l; lra).
  assert (Rabs (g W) * Rabs (h W) <= Rabs (g W) * Rmax (norm_max W h) (Rabs (h W))) by
    (apply Rmult_le_compat_l; lra).
  lra.
Qed.
