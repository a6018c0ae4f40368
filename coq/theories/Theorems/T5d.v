(* THEORY.md section 5, T5(d) (issue 18, item 7): counting for bias-free
   dense networks.  T2's bound n |M|^(W-1) does not carry over: the constant
   has to grow with the depth.  The family (input x = 1, L >= 1 layers of one
   unit, no biases, identity activations, relu on the last unit)
     z_0 = w_0 x,  z_k = w_k z_(k-1) (k < L - 1),  f = relu(w_(L-1) z_(L-2)),
   i.e. f(w) = relu(w_0 w_1 ... w_(L-1)), has one kink in total (n = 1) and
   - f is differentiable at w iff w has no zero coordinate or at least two
     (with two zeros f(w + h) = O(|h|^2): gradient 0, although the relu unit
     sits at its kink with a non-zero adjoint);
   - so |ndf_M(f)| = L (|M| - 1)^(L-1) when 0 is in M (W = L), which is
     about L n |M|^(W-1) for large M;
   - hence no bound c n |M|^(W-1) with a universal constant c holds for
     bias-free networks (T5d_uniform_bound_fails). *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical_Prop FinFun.
From ADCorrect Require Import Vec Frechet OneSided Activation ActDiff Network Counting T2.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

(* w_0 w_1 ... w_(n-1) *)
Fixpoint prodn (n : nat) (w : vec) : R :=
  match n with
  | O => 1
  | S m => prodn m w * w m
  end.

Definition chain_tau (k : nat) : expr :=
  match k with
  | O => EMul (EParam 0) (EInput 0)
  | S j => EMul (EParam (S j)) (ENeuron j)
  end.

Definition chain_act (L k : nat) : activation := if Nat.eq_dec k (L - 1) then relu else act_id.

(* the chain of L one-unit bias-free layers, input 1, f = z_(L-1) *)
Definition chain_net (L : nat) : network :=
  mk_net L (fun _ => 1) (map (fun k => (chain_tau k, chain_act L k)) (seq 0 L)) (ENeuron (L - 1)).

(* exactly one of the first L coordinates is zero *)
Definition one_zero (L : nat) (w : vec) : Prop :=
  exists j, (j < L)%nat /\ w j = 0 /\ forall i, (i < L)%nat -> i <> j -> w i <> 0.

(** * The network computes relu(w_0 ... w_(L-1)) *)

Section Chain.
Variable L : nat.
Hypothesis HL : (1 <= L)%nat.

Lemma chain_size : n_size (chain_net L) = L.
Proof. unfold n_size; simpl; rewrite map_length, seq_length; reflexivity. Qed.

Lemma chain_tau_eq (k : nat) : (k < L)%nat -> tau (chain_net L) k = chain_tau k.
Proof. intros Hk; unfold tau; simpl; rewrite (nth_map_seq (fun k => (chain_tau k, chain_act L k))); auto. Qed.

Lemma chain_sigma_eq (k : nat) : (k < L)%nat -> sigma (chain_net L) k = chain_act L k.
Proof. intros Hk; unfold sigma; simpl; rewrite (nth_map_seq (fun k => (chain_tau k, chain_act L k))); auto. Qed.

Lemma chain_preact (w : vec) (k : nat) : (k < L)%nat -> preact (chain_net L) w k = prodn (S k) w.
Proof.
  induction k as [|k IH]; intros Hk; unfold preact; rewrite chain_tau_eq by exact Hk; cbn [eval chain_tau prodn].
  - simpl; ring.
  - rewrite zvals_lt by lia; unfold post; fold (preact (chain_net L) w k); rewrite IH, chain_sigma_eq by lia.
    unfold chain_act; destruct (Nat.eq_dec k (L - 1)); [lia|]; rewrite act_id_eval; simpl; ring.
Qed.

Lemma chain_eval (w : vec) : net_eval (chain_net L) w = act_eval relu (prodn L w).
Proof.
  unfold net_eval; simpl; unfold zvec; rewrite chain_size, zvals_lt by lia.
  unfold post; rewrite chain_preact, chain_sigma_eq by lia.
  unfold chain_act; destruct (Nat.eq_dec (L - 1) (L - 1)); [|lia].
  replace (S (L - 1)) with L by lia; reflexivity.
Qed.

Lemma chain_wf : wf (chain_net L).
Proof.
  unfold wf; rewrite chain_size; split; [|split].
  - intros k Hk; rewrite chain_tau_eq by exact Hk; destruct k as [|k]; simpl; split;
      intros q Hq; simpl in Hq; try tauto; lia.
  - intros j Hj; simpl in Hj; lia.
  - intros p Hp; simpl in Hp; tauto.
Qed.

Lemma chain_kink_total : kink_total (chain_net L) = 1%nat.
Proof.
  unfold kink_total; rewrite chain_size.
  assert (Hs : seq 0 L = seq 0 (L - 1) ++ [(L - 1)%nat])
    by (replace L with (S (L - 1)) at 1 by lia; rewrite seq_S; reflexivity).
  rewrite Hs, map_app, list_sum_app; cbn [map list_sum].
  rewrite (map_ext_in _ (fun _ => 0%nat)).
  - rewrite chain_sigma_eq by lia; unfold chain_act.
    destruct (Nat.eq_dec (L - 1) (L - 1)); [|lia]; rewrite relu_kinks.
    rewrite list_sum_map_const; simpl; lia.
  - intros k Hk; apply in_seq in Hk; rewrite chain_sigma_eq by lia; unfold chain_act.
    destruct (Nat.eq_dec k (L - 1)); [lia|]; rewrite act_id_kinks; reflexivity.
Qed.

End Chain.

(** * Products *)

Lemma prodn_upd_ge (n j : nat) (w : vec) (t : R) : (n <= j)%nat -> prodn n (upd w j t) = prodn n w.
Proof.
  induction n as [|n IH]; intros Hj; [reflexivity|]; simpl.
  rewrite IH, upd_other by lia; reflexivity.
Qed.

Lemma prodn_upd (n j : nat) (w : vec) (t : R) : (j < n)%nat ->
  prodn n (upd w j t) = t * prodn n (upd w j 1).
Proof.
  induction n as [|n IH]; intros Hj; [lia|]; simpl.
  destruct (Nat.eq_dec j n) as [->|Hne].
  - rewrite !Vec.upd_same, !prodn_upd_ge by lia; ring.
  - rewrite IH by lia; rewrite !upd_other by lia; ring.
Qed.

Lemma prodn_zero (n j : nat) (w : vec) : (j < n)%nat -> w j = 0 -> prodn n w = 0.
Proof.
  induction n as [|n IH]; intros Hj Hw; [lia|]; simpl.
  destruct (Nat.eq_dec j n) as [->|Hne]; [rewrite Hw; ring | rewrite IH by (lia || exact Hw); ring].
Qed.

Lemma prodn_nonzero (n : nat) (w : vec) : (forall i, (i < n)%nat -> w i <> 0) -> prodn n w <> 0.
Proof.
  induction n as [|n IH]; intros H; simpl; [lra|].
  apply Rmult_integral_contrapositive; split; [apply IH; intros; apply H; lia | apply H; lia].
Qed.

Lemma prodn_abs_le (n : nat) (v u : vec) :
  (forall i, (i < n)%nat -> Rabs (v i) <= u i) -> Rabs (prodn n v) <= prodn n u.
Proof.
  induction n as [|n IH]; intros H; simpl; [rewrite Rabs_R1; lra|].
  rewrite Rabs_mult; apply Rmult_le_compat; try apply Rabs_pos; [apply IH; intros; apply H; lia | apply H; lia].
Qed.

Lemma prodn_differentiable (n W : nat) (w : vec) : (n <= W)%nat ->
  exists g, differentiable_at W (prodn n) w g.
Proof.
  induction n as [|n IH]; intros Hn.
  - exists vzero; apply (differentiable_at_ext W (fun _ => 1)); [reflexivity | apply differentiable_at_const].
  - destruct IH as [g Hg]; [lia|]; eexists.
    apply (differentiable_at_ext W (fun v => prodn n v * v n)); [reflexivity|].
    apply differentiable_at_mult; [exact Hg | apply differentiable_at_coord; lia].
Qed.

(** * Differentiability of relu(w_0 ... w_(L-1)) *)

Section Diff.
Variable L : nat.
Let f (w : vec) : R := act_eval relu (prodn L w).

(* no zero coordinate: f is a composition of differentiable maps *)
Lemma chain_diff_no_zero (w : vec) : (forall i, (i < L)%nat -> w i <> 0) -> differentiable L f w.
Proof.
  intros H; destruct (prodn_differentiable L L w (le_n L)) as [g Hg].
  eexists; apply (differentiable_at_comp L (act_eval relu) (prodn L) w g); [|exact Hg].
  apply act_derivable_not_kink; rewrite relu_is_kink; apply prodn_nonzero, H.
Qed.

(* two zero coordinates: f(w + h) = O(|h|^2), gradient 0 *)
Lemma chain_diff_two_zeros (w : vec) (j k : nat) :
  (j < L)%nat -> (k < L)%nat -> j <> k -> w j = 0 -> w k = 0 -> differentiable L f w.
Proof.
  intros Hj Hk Hjk Hwj Hwk; exists vzero; intros eps Heps.
  set (C := prodn L (fun i => Rabs (w i) + 1)).
  assert (HC : 0 <= C).
  { unfold C; clear; induction L as [|n IH]; simpl; [lra|].
    apply Rmult_le_pos; [exact IH | generalize (Rabs_pos (w n)); lra]. }
  exists (Rmin 1 (eps / (C + 1))); split; [apply Rmin_glb_lt; [lra | apply Rdiv_lt_0_compat; lra]|].
  intros h Hs Hn.
  assert (Hn1 : norm_max L h < 1) by (generalize (Rmin_l 1 (eps / (C + 1))); lra).
  assert (Hn2 : norm_max L h < eps / (C + 1)) by (generalize (Rmin_r 1 (eps / (C + 1))); lra).
  assert (Hf0 : f w = 0) by (unfold f; rewrite (prodn_zero L j w Hj Hwj), relu_eval; unfold Rmax;
                             destruct (Rle_dec 0 0); lra).
  rewrite Hf0, dot_vzero_l, Rminus_0_r, Rminus_0_r.
  set (v := vadd w h).
  assert (Hp : prodn L v = v j * (v k * prodn L (upd (upd v j 1) k 1))).
  { rewrite <- (upd_id v j) at 1; rewrite (prodn_upd L j v (v j) Hj).
    rewrite <- (upd_id (upd v j 1) k) at 1; rewrite (prodn_upd L k (upd v j 1) _ Hk).
    rewrite upd_other by lia; ring. }
  assert (Hvj : v j = h j) by (unfold v, vadd; rewrite Hwj; ring).
  assert (Hvk : v k = h k) by (unfold v, vadd; rewrite Hwk; ring).
  assert (Hrest : Rabs (prodn L (upd (upd v j 1) k 1)) <= C).
  { apply prodn_abs_le; intros i Hi; unfold upd, v, vadd.
    destruct (Nat.eq_dec i k); [rewrite Rabs_R1; generalize (Rabs_pos (w i)); lra|].
    destruct (Nat.eq_dec i j); [rewrite Rabs_R1; generalize (Rabs_pos (w i)); lra|].
    eapply Rle_trans; [apply Rabs_triang|].
    generalize (norm_max_coord L h i Hi); lra. }
  assert (Hhj : Rabs (h j) <= norm_max L h) by (apply norm_max_coord, Hj).
  assert (Hhk : Rabs (h k) <= norm_max L h) by (apply norm_max_coord, Hk).
  assert (Hprod : Rabs (prodn L v) <= norm_max L h * (norm_max L h * C)).
  { rewrite Hp, Hvj, Hvk, !Rabs_mult.
    apply Rmult_le_compat; [apply Rabs_pos | apply Rmult_le_pos; apply Rabs_pos | exact Hhj |].
    apply Rmult_le_compat; [apply Rabs_pos | apply Rabs_pos | exact Hhk | exact Hrest]. }
  assert (Hrelu : Rabs (f v) <= Rabs (prodn L v)).
  { unfold f; rewrite relu_eval; unfold Rmax; destruct (Rle_dec 0 (prodn L v)).
    - lra.
    - rewrite Rabs_R0; apply Rabs_pos. }
  assert (HN : 0 <= norm_max L h) by apply norm_max_nonneg.
  assert (Hsmall : norm_max L h * C <= eps).
  { apply Rle_trans with (eps / (C + 1) * (C + 1)).
    - apply Rle_trans with (norm_max L h * (C + 1)); [nra|].
      apply Rmult_le_compat_r; lra.
    - right; field; lra. }
  unfold v in *; eapply Rle_trans; [exact Hrelu|]; eapply Rle_trans; [exact Hprod|].
  rewrite Rmult_comm; apply Rmult_le_compat_r; [exact HN | exact Hsmall].
Qed.

Lemma relu_scale_pos (t P : R) : 0 < t -> act_eval relu (t * P) = t * Rmax 0 P.
Proof. intros Ht; rewrite relu_eval; unfold Rmax; destruct (Rle_dec 0 (t * P)), (Rle_dec 0 P); nra. Qed.

Lemma relu_scale_neg (t P : R) : t < 0 -> act_eval relu (t * P) = t * Rmin 0 P.
Proof. intros Ht; rewrite relu_eval; unfold Rmax, Rmin; destruct (Rle_dec 0 (t * P)), (Rle_dec 0 P); nra. Qed.

(* exactly one zero coordinate: along it f(t) = relu(t P), P <> 0, has
   one-sided derivatives max(0, P) <> min(0, P) *)
Lemma chain_not_diff_one_zero (w : vec) : one_zero L w -> ~ differentiable L f w.
Proof.
  intros [j [Hj [Hwj Hne]]].
  set (P := prodn L (upd w j 1)).
  assert (HP : P <> 0).
  { unfold P; apply prodn_nonzero; intros i Hi; unfold upd.
    destruct (Nat.eq_dec i j); [lra | apply Hne; assumption]. }
  assert (Hf : forall t, f (upd w j (w j + t)) = act_eval relu (t * P)).
  { intros t; unfold f, P; rewrite prodn_upd by exact Hj.
    rewrite Hwj, Rplus_0_l; reflexivity. }
  apply (one_sided_differ_not_differentiable L f w j (Rmax 0 P) (Rmin 0 P) Hj).
  - intros eps Heps; exists 1; split; [lra|]; intros t Ht.
    rewrite !Hf, Rplus_0_l, Rmult_0_l, relu_scale_pos by lra.
    rewrite (relu_eval 0); unfold Rmax at 2; destruct (Rle_dec 0 0); [|lra].
    replace ((t * Rmax 0 P - 0) / t - Rmax 0 P) with 0 by (field; lra); rewrite Rabs_R0; exact Heps.
  - intros eps Heps; exists 1; split; [lra|]; intros t Ht.
    rewrite !Hf, Rplus_0_l, Rmult_0_l, relu_scale_neg by lra.
    rewrite (relu_eval 0); unfold Rmax at 1; destruct (Rle_dec 0 0); [|lra].
    replace ((t * Rmin 0 P - 0) / t - Rmin 0 P) with 0 by (field; lra); rewrite Rabs_R0; exact Heps.
  - unfold Rmax, Rmin; destruct (Rle_dec 0 P), (Rle_dec P 0); lra.
Qed.

Lemma chain_ndf_iff (w : vec) : ~ differentiable L f w <-> one_zero L w.
Proof.
  split; [|apply chain_not_diff_one_zero].
  intros Hnd; apply NNPP; intros Hno; apply Hnd.
  destruct (classic (exists j, (j < L)%nat /\ w j = 0)) as [[j [Hj Hwj]]|Hz].
  - destruct (classic (exists k, (k < L)%nat /\ k <> j /\ w k = 0)) as [[k [Hk [Hkj Hwk]]]|Hk].
    + exact (chain_diff_two_zeros w j k Hj Hk (not_eq_sym Hkj) Hwj Hwk).
    + exfalso; apply Hno; exists j; split; [exact Hj|]; split; [exact Hwj|].
      intros i Hi Hij Hwi; apply Hk; exists i; auto.
  - apply chain_diff_no_zero; intros i Hi Hwi; apply Hz; exists i; auto.
Qed.

End Diff.

(** * Counting *)

Lemma word_vec_cons (a : R) (v : list R) (i : nat) :
  word_vec (a :: v) i = match i with O => a | S i' => word_vec v i' end.
Proof. destruct i; reflexivity. Qed.

Lemma one_zero_cons (L : nat) (a : R) (v : list R) :
  one_zero (S L) (word_vec (a :: v)) <->
  (a = 0 /\ forall i, (i < L)%nat -> word_vec v i <> 0) \/ (a <> 0 /\ one_zero L (word_vec v)).
Proof.
  split.
  - intros [j [Hj [Hz Hne]]]; destruct j as [|j].
    + left; split; [exact Hz|]; intros i Hi; apply (Hne (S i)); lia.
    + right; split; [apply (Hne 0%nat); lia|].
      exists j; split; [lia|]; split; [exact Hz|]; intros i Hi Hij; apply (Hne (S i)); lia.
  - intros [[Ha Hv]|[Ha [j [Hj [Hz Hne]]]]].
    + exists 0%nat; split; [lia|]; split; [exact Ha|]; intros [|i] Hi Hi0; [lia|]; apply Hv; lia.
    + exists (S j); split; [lia|]; split; [exact Hz|]; intros [|i] Hi Hij; [exact Ha|]; apply Hne; lia.
Qed.

Lemma count_no_zero (M : list R) (L : nat) :
  NoDup M -> In 0 M ->
  count (fun u => forall i, (i < L)%nat -> word_vec u i <> 0) (words M L) = ((length M - 1) ^ L)%nat.
Proof.
  intros HM H0.
  assert (Hincl : incl [0] M) by (intros x [<-|[]]; exact H0).
  assert (HK : NoDup [0]) by (constructor; [intros [] | constructor]).
  generalize (count_avoid M [0] L L HM HK Hincl (le_n L)).
  rewrite Nat.sub_diag, Nat.pow_0_r, Nat.mul_1_r; simpl length; intros <-.
  apply count_ext; intros u _; unfold word_vec; split; intros H i Hi.
  - intros [E|[]]; exact (H i Hi (eq_sym E)).
  - intros E; apply (H i Hi); left; symmetry; exact E.
Qed.

Lemma count_one_zero (M : list R) (L : nat) :
  NoDup M -> In 0 M ->
  count (fun u => one_zero L (word_vec u)) (words M L) = (L * (length M - 1) ^ (L - 1))%nat.
Proof.
  intros HM H0; induction L as [|L IH].
  - rewrite count_none; [reflexivity|]; intros u _ [j [Hj _]]; lia.
  - simpl words; rewrite count_flat_map.
    rewrite (list_sum_map_ext _ (fun a : R => ind (fun a => a = 0%R) a * (length M - 1) ^ L +
                                          ind (fun a => a <> 0%R) a * (L * (length M - 1) ^ (L - 1)))%nat).
    + rewrite list_sum_map_add, !list_sum_map_ind_mul.
      assert (Hincl : incl [0] M) by (intros x [<-|[]]; exact H0).
      assert (HK : NoDup [0]) by (constructor; [intros [] | constructor]).
      assert (C0 : count (fun a => a = 0) M = 1%nat).
      { transitivity (count (fun x => In x [0]) M); [|apply (count_In_incl [0] M HK HM Hincl)].
        apply count_ext; intros a _; simpl; intuition. }
      assert (C1 : count (fun a => a <> 0) M = (length M - 1)%nat).
      { transitivity (count (fun x => ~ In x [0]) M); [|apply (count_not_In_incl [0] M HK HM Hincl)].
        apply count_ext; intros a _; simpl; intuition. }
      rewrite C0, C1; destruct L as [|L]; simpl; [lia|].
      rewrite Nat.sub_0_r; ring.
    + intros a _; rewrite count_map.
      rewrite (count_ext _ (fun v => (a = 0 /\ forall i, (i < L)%nat -> word_vec v i <> 0) \/
                                      (a <> 0 /\ one_zero L (word_vec v)))) by (intros v _; apply one_zero_cons).
      unfold ind; destruct (Req_dec a 0) as [Ha|Ha].
      * rewrite (count_cons_true (fun a => a = 0)), (count_cons_false (fun a => a <> 0)), !count_nil by tauto.
        rewrite <- (count_no_zero M L HM H0); rewrite Nat.mul_0_l, Nat.add_0_r, Nat.mul_1_l.
        apply count_ext; intros v _; tauto.
      * rewrite (count_cons_false (fun a => a = 0)), (count_cons_true (fun a => a <> 0)), !count_nil by tauto.
        rewrite <- IH, Nat.mul_0_l, Nat.mul_1_l; simpl.
        apply count_ext; intros v _; tauto.
Qed.

(** * The T5(d) family *)

(* the network: non-differentiable exactly where one coordinate is 0 *)
Lemma chain_net_ndf_iff (L : nat) (w : vec) : (1 <= L)%nat ->
  (~ differentiable L (net_eval (chain_net L)) w <-> one_zero L w).
Proof.
  intros HL; rewrite <- (chain_ndf_iff L w).
  split; intros Hnd [g Hg]; apply Hnd; exists g; eapply differentiable_at_ext; try exact Hg;
    intros v; [|symmetry]; apply chain_eval; exact HL.
Qed.

(* exact count: |ndf_M(f)| = L (|M| - 1)^(L-1), 0 in M *)
Theorem T5d_chain_count (L : nat) (M : list R) :
  (1 <= L)%nat -> NoDup M -> In 0 M ->
  count (fun u => ~ differentiable (n_params (chain_net L)) (net_eval (chain_net L)) (word_vec u))
    (words M (n_params (chain_net L))) = (L * (length M - 1) ^ (L - 1))%nat.
Proof.
  intros HL HM H0; simpl n_params; rewrite <- count_one_zero by assumption.
  apply count_ext; intros u _; rewrite <- (chain_ndf_iff L (word_vec u)).
  split; intros Hnd [g Hg]; apply Hnd; exists g; eapply differentiable_at_ext; try exact Hg;
    intros v; [|symmetry]; apply chain_eval; exact HL.
Qed.

(* nat Bernoulli: q^(c+1) <= (q-1)^(c+1) + (c+1) q^c *)
Lemma pow_bernoulli_nat (q c : nat) : (1 <= q)%nat ->
  (q ^ S c <= (q - 1) ^ S c + S c * q ^ c)%nat.
Proof.
  intros Hq; destruct q as [|p]; [lia|]; replace (S p - 1)%nat with p by lia.
  induction c as [|c IH]; [simpl; lia|].
  assert (Hle : (p ^ S c <= S p ^ S c)%nat) by (apply Nat.pow_le_mono_l; lia).
  change (S p ^ S (S c))%nat with (S p * S p ^ S c)%nat.
  change (p ^ S (S c))%nat with (p * p ^ S c)%nat.
  change (S p ^ S c)%nat with (S p * S p ^ c)%nat in IH.
  set (X := (S p ^ S c)%nat) in *; set (Y := (p ^ S c)%nat) in *; set (Z := (S p ^ c)%nat) in *.
  assert (HX : X = (S p * Z)%nat) by reflexivity.
  assert (H1 : (S p * X <= S p * Y + S c * X)%nat).
  { apply Nat.le_trans with (S p * (Y + S c * Z))%nat; [apply Nat.mul_le_mono_l; exact IH|]. nia. }
  nia.
Qed.

Lemma chain_ratio (c : nat) :
  let q := (c * (c + 1) + 2)%nat in
  (c * q ^ c < (c + 1) * (q - 1) ^ c)%nat.
Proof.
  intros q; destruct c as [|c]; [simpl; lia|].
  assert (Hq : (1 <= q)%nat) by (unfold q; lia).
  generalize (pow_bernoulli_nat q c Hq); intros H.
  assert (HX : (1 <= q ^ c)%nat) by (rewrite <- (Nat.pow_1_l c); apply Nat.pow_le_mono_l; exact Hq).
  set (X := (q ^ c)%nat) in *; set (Y := ((q - 1) ^ S c)%nat) in *.
  replace (q ^ S c)%nat with (q * X)%nat in * by reflexivity.
  (* (S c + 1) Y >= (S c + 1) (q X - S c X) and q = S c (S c + 1) + 2 *)
  assert (E : ((S c + 1) * Y + (S c + 1) * (S c * X) >= (S c + 1) * (q * X))%nat) by nia.
  unfold q in *; nia.
Qed.

Lemma seq_INR_NoDup (q : nat) : NoDup (map INR (seq 0 q)).
Proof. apply Injective_map_NoDup; [intros u v; apply INR_eq | apply seq_NoDup]. Qed.

(* No bound c n |M|^(W-1) with a universal c holds for bias-free networks:
   for every c the chain of depth L = c + 1 (n = 1) over
   M = {0, 1, ..., c (c + 1) + 1} exceeds it. *)
Theorem T5d_uniform_bound_fails (c : nat) :
  exists L M, NoDup M /\ In 0 M /\ wf (chain_net L) /\ kink_total (chain_net L) = 1%nat /\
    (c * kink_total (chain_net L) * length M ^ (n_params (chain_net L) - 1) <
     count (fun u => ~ differentiable (n_params (chain_net L)) (net_eval (chain_net L)) (word_vec u))
       (words M (n_params (chain_net L))))%nat.
Proof.
  set (q := (c * (c + 1) + 2)%nat).
  exists (c + 1)%nat, (map INR (seq 0 q)).
  assert (HL : (1 <= c + 1)%nat) by lia.
  assert (HM : NoDup (map INR (seq 0 q))) by apply seq_INR_NoDup.
  assert (H0 : In 0 (map INR (seq 0 q))) by (apply in_map_iff; exists 0%nat; split; [reflexivity | apply in_seq; unfold q; lia]).
  split; [exact HM|]; split; [exact H0|]; split; [apply chain_wf; exact HL|].
  split; [apply chain_kink_total; exact HL|].
  rewrite T5d_chain_count by assumption; rewrite chain_kink_total by exact HL.
  simpl n_params; rewrite map_length, seq_length; replace (c + 1 - 1)%nat with c by lia.
  rewrite Nat.mul_1_r; apply chain_ratio.
Qed.
