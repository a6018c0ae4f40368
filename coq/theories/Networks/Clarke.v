(* T4 of THEORY.md section 5 ("Clarke"), first half of the proof sketch
   "Clarke (T4)" of section 6, FORMAL_PLAN.md point 9: the Clarke
   subdifferential (convex hull of limits of gradients at nearby points of
   differentiability); AD_D f(w) is affine in each choice at a kink neuron
   (AD.v, ad_affine_in_choice), hence, when each choice lies between the two
   one-sided slopes, a convex combination of the "vertex" ADs (left or right
   slope at every kink neuron), and each vertex AD is the gradient at w of the
   selection f_s picking the matching pieces. *)
From Coq Require Import Reals Lra Lia List FunctionalExtensionality.
From ADCorrect Require Import Vec Frechet Activation Network AD.
Import ListNotations.
Open Scope R_scope.

(** * The Clarke subdifferential *)

(* G is a limit of gradients grad f(w_n), w_n -> w, f differentiable at w_n *)
Definition clarke_limit (net : network) (w G : vec) : Prop :=
  exists wn gn : nat -> vec,
    (forall eps, 0 < eps -> exists N, forall n, (N <= n)%nat ->
       norm_max (n_params net) (fun i => wn n i - w i) < eps) /\
    (forall n, differentiable_at (n_params net) (net_eval net) (wn n) (gn n)) /\
    (forall p, (p < n_params net)%nat -> forall eps, 0 < eps ->
       exists N, forall n, (N <= n)%nat -> Rabs (gn n p - G p) < eps).

(* g is a convex combination of finitely many such limits *)
Definition in_clarke (net : network) (w g : vec) : Prop :=
  exists cs : list (R * vec),
    (forall c, In c cs -> 0 <= fst c /\ clarke_limit net w (snd c)) /\
    sum_list (map fst cs) = 1 /\
    forall p, (p < n_params net)%nat -> g p = sum_list (map (fun c => fst c * snd c p) cs).

(** * Helpers *)

Lemma sum_list_map_scal {A : Type} (c : R) (f : A -> R) (l : list A) :
  sum_list (map (fun a => c * f a) l) = c * sum_list (map f l).
Proof. induction l as [|a l IH]; unfold sum_list in *; simpl; [ring | rewrite IH; ring]. Qed.

(* a number between a and b is a convex combination of a and b *)
Lemma between_convex (a b x : R) :
  Rmin a b <= x <= Rmax a b -> exists t, 0 <= t <= 1 /\ x = (1 - t) * a + t * b.
Proof.
  unfold Rmin, Rmax; intros Hx; destruct (Req_dec a b) as [<-|Hne].
  - exists 0; destruct (Rle_dec a a); split; lra.
  - set (t := (x - a) / (b - a)); exists t.
    assert (Ht : t * (b - a) = x - a) by (unfold t; field; lra).
    replace ((1 - t) * a + t * b) with (a + t * (b - a)) by ring; rewrite Ht.
    split; [|ring].
    assert (Hba : b - a <> 0) by lra.
    destruct (Rle_dec a b); split; nra.
Qed.

(** * Vertex choices *)

Section Vertices.
Variables (net : network) (w : vec).

Definition slope_L (k : nat) : R := slope_left (sigma net k) (preact net w k).
Definition slope_R (k : nat) : R := slope_right (sigma net k) (preact net w k).

Definition between_slopes (D : nat -> R) (k : nat) : Prop :=
  Rmin (slope_L k) (slope_R k) <= D k <= Rmax (slope_L k) (slope_R k).

(* at the neurons of l, the right slope if b says so, else the left one *)
Definition vertex_choice (D : nat -> R) (l : list nat) (b : nat -> bool) : nat -> R :=
  fun k => if in_dec Nat.eq_dec k l then (if b k then slope_R k else slope_L k) else D k.

Definition bupd (b : nat -> bool) (k : nat) (v : bool) : nat -> bool :=
  fun j => if Nat.eq_dec j k then v else b j.

Lemma vertex_choice_nil (D : nat -> R) (b : nat -> bool) : vertex_choice D [] b = D.
Proof. reflexivity. Qed.

Lemma vertex_choice_cons (D : nat -> R) (l : list nat) (k : nat) (b : nat -> bool) (v : bool) (x : R) :
  ~ In k l -> x = (if v then slope_R k else slope_L k) ->
  vertex_choice (upd D k x) l b = vertex_choice D (k :: l) (bupd b k v).
Proof.
  intros Hk Hx; apply functional_extensionality; intros j; unfold vertex_choice, bupd, upd.
  destruct (Nat.eq_dec j k) as [->|Hne].
  - destruct (in_dec Nat.eq_dec k l); [tauto|].
    destruct (in_dec Nat.eq_dec k (k :: l)) as [_|H]; [exact Hx | exfalso; apply H; now left].
  - destruct (in_dec Nat.eq_dec j l) as [Hin|Hn], (in_dec Nat.eq_dec j (k :: l)) as [Hin'|Hn'];
      try reflexivity.
    + exfalso; apply Hn'; now right.
    + exfalso; destruct Hin' as [->|]; [congruence | tauto].
Qed.

(* multilinearity: AD_D f(w) is a convex combination of the ADs at the
   vertex choices over the neurons of l *)
Lemma ad_convex_combination_of_vertices (l : list nat) : NoDup l ->
  forall D, (forall k, In k l -> between_slopes D k) ->
  exists cs : list (R * (nat -> bool)),
    (forall c, In c cs -> 0 <= fst c) /\ sum_list (map fst cs) = 1 /\
    forall p, ad net D w p =
      sum_list (map (fun c => fst c * ad net (vertex_choice D l (snd c)) w p) cs).
Proof.
  induction l as [|k l IH]; intros Hnd D HD.
  - exists [(1, fun _ => true)]; split; [intros c [<-|[]]; simpl; lra|].
    split; [unfold sum_list; simpl; ring|]; intros p; unfold sum_list; simpl.
    rewrite vertex_choice_nil; ring.
  - inversion Hnd as [|? ? Hk Hnd']; subst.
    destruct (between_convex _ _ _ (HD k (or_introl eq_refl))) as [t [Ht HDk]].
    assert (Hup : forall x, forall j, In j l -> between_slopes (upd D k x) j).
    { intros x j Hj; unfold between_slopes, upd; destruct (Nat.eq_dec j k) as [->|];
        [tauto | apply HD; now right]. }
    destruct (IH Hnd' (upd D k (slope_L k)) (Hup _)) as [cL [HL0 [HL1 HL]]].
    destruct (IH Hnd' (upd D k (slope_R k)) (Hup _)) as [cR [HR0 [HR1 HR]]].
    exists (map (fun c => ((1 - t) * fst c, bupd (snd c) k false)) cL ++
            map (fun c => (t * fst c, bupd (snd c) k true)) cR).
    split; [|split].
    + intros c Hc; apply in_app_or in Hc.
      destruct Hc as [Hc|Hc]; apply in_map_iff in Hc; destruct Hc as [c' [<- Hc']]; simpl.
      * apply Rmult_le_pos; [lra | now apply HL0].
      * apply Rmult_le_pos; [lra | now apply HR0].
    + rewrite map_app, sum_list_app, !map_map; cbn [fst snd].
      rewrite !sum_list_map_scal, HL1, HR1; ring.
    + intros p.
      assert (HDeq : D = upd D k ((1 - t) * slope_L k + t * slope_R k)).
      { apply functional_extensionality; intros j; unfold upd.
        destruct (Nat.eq_dec j k) as [->|]; [exact HDk | reflexivity]. }
      rewrite HDeq at 1; rewrite ad_affine_in_choice, HL, HR.
      rewrite map_app, sum_list_app, !map_map; cbn [fst snd].
      rewrite <- !sum_list_map_scal; f_equal; apply sum_list_map_ext; intros c _.
      * rewrite <- (vertex_choice_cons D l k (snd c) false (slope_L k) Hk eq_refl); ring.
      * rewrite <- (vertex_choice_cons D l k (snd c) true (slope_R k) Hk eq_refl); ring.
Qed.

(** * Vertex ADs are gradients of selections *)

(* the pattern taking at each neuron the right piece if b says so, else the left one *)
Definition vertex_pattern (b : nat -> bool) : nat -> nat :=
  fun k => if b k then right_piece (sigma net k) (preact net w k)
           else left_piece (sigma net k) (preact net w k).

(* grad f_s(w) for that pattern (select_grad: propagation on f_s at w is
   propagation on the network) *)
Definition vertex_grad (b : nat -> bool) : vec :=
  grad_sl net (piece_slopes net (vertex_pattern b) w) w.

Lemma vertex_pattern_compatible (b : nat -> bool) : compatible net (vertex_pattern b) w.
Proof. intros k _; unfold piece_at, vertex_pattern; destruct (b k); [right|left]; reflexivity. Qed.

Lemma vertex_ad_eq_grad (D : nat -> R) (b : nat -> bool) (p : nat) :
  ad net (vertex_choice D (kink_neurons net w) b) w p = vertex_grad b p.
Proof.
  unfold ad, vertex_grad; apply grad_compare; intros j Hj; left.
  unfold piece_slopes; rewrite (select_preact net _ w (vertex_pattern_compatible b) j Hj).
  unfold dchoice, vertex_choice, vertex_pattern.
  destruct (in_dec Nat.eq_dec j (kink_neurons net w)) as [Hin|Hn].
  - rewrite act_deriv_choice_kink by (apply kink_neurons_spec in Hin; tauto).
    unfold slope_R, slope_L, slope_right, slope_left; destruct (b j); reflexivity.
  - assert (Hk : ~ is_kink (sigma net j) (preact net w j))
      by (intros Hk; apply Hn, kink_neurons_spec; tauto).
    rewrite act_deriv_choice_not_kink by exact Hk; destruct (b j); [reflexivity|].
    rewrite <- not_kink_slopes by exact Hk; reflexivity.
Qed.

(* AD_D f(w) is a convex combination of vertex gradients grad f_s(w) *)
Theorem ad_convex_combination_of_vertex_grads (D : nat -> R) :
  (forall k, In k (kink_neurons net w) -> between_slopes D k) ->
  exists cs : list (R * (nat -> bool)),
    (forall c, In c cs -> 0 <= fst c) /\ sum_list (map fst cs) = 1 /\
    forall p, ad net D w p = sum_list (map (fun c => fst c * vertex_grad (snd c) p) cs).
Proof.
  intros HD.
  destruct (ad_convex_combination_of_vertices _ (kink_neurons_NoDup net w) D HD) as [cs [H0 [H1 H]]].
  exists cs; split; [exact H0|]; split; [exact H1|]; intros p; rewrite H.
  apply sum_list_map_ext; intros c _; now rewrite vertex_ad_eq_grad.
Qed.

End Vertices.
