(* THEORY.md section 8.1, "Batched T2" and open question (2) (issue 18,
   item 6): how tight the batched bound |ndf_M(L)| <= B n |M|^(W-1) is, and
   whether distinct inputs are needed for the factor B.
   - Only distinct inputs count: if every input of the batch equals one of
     the inputs listed in reps, |ndf_M(L)| <= |reps| n |M|^(W-1) (copies of a
     base neuron on equal inputs have equal pre-activations, so only the
     copies of the representatives can be the kinked ones).  With B equal
     inputs the factor B drops to 1.
   - The family y = b + x (one base neuron with activation a, W >= 1
     parameters, b = w_0), batch x_0 .. x_(B-1), sum loss
     L(w) = sum_i a(w_0 + x_i): exactly
       |ndf_M(L)| = |{b in M : sum_i (a'_+ - a'_-)(b + x_i) <> 0}| |M|^(W-1)
     (L depends on w_0 only; its one-sided derivatives are the sums of the
     one-sided slopes).  When the B m values c - x_i (c a kink of a) are
     distinct and lie in M, this is B m |M|^(W-1) = B n |M|^(W-1): the
     batched bound is attained exactly.  With equal inputs it is
     m |M|^(W-1) when the c - x_0 lie in M. *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical_Prop FinFun.
From ADCorrect Require Import Vec Frechet OneSided Activation ActDiff Network AD NoKink Counting T2
  C1Output C1Instance Batch T6 T6Correct.
Import ListNotations.
Open Scope R_scope.

(** * Definitions *)

(* the base network: one neuron y = w_0 + x_0 with activation a, W parameters *)
Definition bt_base (a : activation) (W : nat) : network :=
  mk_net W (fun _ => 0) [(EAdd (EParam 0) (EInput 0), a)] (EConst 0).

(* the batch: example i is the scalar x_i *)
Definition bt_xs (x : nat -> R) : nat -> nat -> R := fun i _ => x i.

(* the batched neurons with the sum of the B outputs, as a polynomial network *)
Definition bt_poly (a : activation) (W B : nat) (x : nat -> R) : network :=
  with_out (batch_neurons (bt_base a W) B (bt_xs x)) (lin_out (fun _ => 1) B).

(* the slope jump a'_+(c) - a'_-(c) of the activation at c *)
Definition jump (a : activation) (c : R) : R := slope_right a c - slope_left a c.

(* the total slope jump of L at b: sum_i (a'_+ - a'_-)(b + x_i) *)
Definition bt_jump (a : activation) (B : nat) (x : nat -> R) (b : R) : R :=
  sumn B (fun i => jump a (b + x i)).

(** * Counting by the first coordinate *)

Lemma count_first_letter (M : list R) (W : nat) (P : R -> Prop) :
  (1 <= W)%nat ->
  count (fun u => P (nth 0 u 0)) (words M W) = (count P M * length M ^ (W - 1))%nat.
Proof.
  intros HW; destruct W as [|W]; [lia|]; replace (S W - 1)%nat with W by lia.
  simpl words; rewrite count_flat_map.
  rewrite (list_sum_map_ext _ (fun a => ind P a * length M ^ W)%nat).
  - apply list_sum_map_ind_mul.
  - intros a _; rewrite count_map; unfold ind.
    destruct (classic (P a)) as [H|H].
    + rewrite count_cons_true, count_nil by exact H.
      rewrite count_all by (intros; exact H); rewrite words_length; lia.
    + rewrite count_cons_false, count_nil by exact H.
      rewrite count_none by (intros; exact H); lia.
Qed.

(** * Only distinct inputs count *)

Section Reps.
Variables (net : network) (B : nat) (xs : nat -> nat -> R).
Variable loss : c1_output (n_params net) (n_size (batch_neurons net B xs)).
Variable reps : list nat.
Let N := n_size net.
Let bnet := batch_neurons net B xs.
Hypothesis Hwf : wf_neurons net.
Hypothesis Hb : batch_bias net B xs.
Hypothesis HrepsB : forall j, In j reps -> (j < B)%nat.
Hypothesis Hreps : forall i, (i < B)%nat -> exists j, In j reps /\ xs i = xs j.

(* the copy of neuron k for the r-th representative *)
Let rep_copy (c : nat) : nat := (nth (c / N) reps 0%nat * N + c mod N)%nat.

Lemma rep_copy_lt (c : nat) : (c < length reps * N)%nat ->
  (c / N < length reps)%nat /\ (c mod N < N)%nat /\ (rep_copy c < n_size bnet)%nat.
Proof.
  intros Hc; assert (HN : N <> 0%nat) by (intros E; rewrite E in Hc; lia).
  assert (H1 : (c / N < length reps)%nat) by (apply Nat.div_lt_upper_bound; lia).
  assert (H2 : (c mod N < N)%nat) by (apply Nat.mod_upper_bound, HN).
  split; [exact H1|]; split; [exact H2|].
  unfold bnet; rewrite batch_size; apply copy_lt; [apply HrepsB, nth_In, H1 | exact H2].
Qed.

Lemma kinked_copy_rep (w : vec) (c : nat) : (c < n_size bnet)%nat ->
  is_kink (sigma bnet c) (preact bnet w c) ->
  exists c', (c' < length reps * N)%nat /\ is_kink (sigma net (c' mod N)) (preact bnet w (rep_copy c')).
Proof.
  intros Hc Hk; unfold bnet in Hc; rewrite batch_size in Hc.
  destruct (copy_decompose N B c Hc) as [i [k [Hi [Hkn ->]]]].
  destruct (Hreps i Hi) as [j [Hj Hx]].
  destruct (In_nth reps j 0%nat Hj) as [r [Hr Hrj]].
  exists (r * N + k)%nat; split; [apply copy_lt; assumption|].
  unfold rep_copy; rewrite copy_div, copy_mod, Hrj by exact Hkn.
  unfold bnet in Hk |- *; rewrite batch_sigma in Hk by assumption.
  rewrite batch_preact in Hk |- * by (assumption || apply HrepsB, Hj).
  rewrite Hx in Hk; exact Hk.
Qed.

(* |ndf_M(L)| <= |reps| n |M|^(W-1) *)
Theorem T6_batch_count_bound_reps (M : list R) :
  NoDup M ->
  (count (fun u => ~ differentiable (n_params net) (c1_eval (batch_net net B xs loss)) (word_vec u))
     (words M (n_params net))
   <= length reps * kink_total net * length M ^ (n_params net - 1))%nat.
Proof.
  intros HM; eapply Nat.le_trans.
  - apply (count_le _ (fun u => exists c, (c < length reps * N)%nat /\
      is_kink (sigma net (c mod N)) (preact bnet (word_vec u) (rep_copy c)))).
    intros u _ Hnd.
    destruct (batch_ndf_kinked net B xs loss Hwf (word_vec u) Hnd) as [c [Hc Hk]].
    exact (kinked_copy_rep (word_vec u) c Hc Hk).
  - eapply Nat.le_trans;
      [apply (kink_count_bound_abstract M (n_params net) (length reps * N)
                (fun c => sigma net (c mod N)) (fun c w => preact bnet w (rep_copy c)) HM)|].
    + intros c Hc; destruct (rep_copy_lt c Hc) as (_ & _ & Hlt).
      exact (batch_copy_bias_shift net B xs Hwf Hb (rep_copy c) Hlt).
    + rewrite (list_sum_copies N (length reps) (fun k => length (kinks (sigma net k)))).
      unfold kink_total; fold N; lia.
Qed.

End Reps.

(* B equal inputs: the factor B drops to 1, |ndf_M(L)| <= n |M|^(W-1) *)
Theorem T6_batch_count_bound_equal_inputs (net : network) (B : nat) (xs : nat -> nat -> R)
  (loss : c1_output (n_params net) (n_size (batch_neurons net B xs))) (M : list R) :
  wf_neurons net -> batch_bias net B xs -> NoDup M ->
  (forall i, (i < B)%nat -> xs i = xs 0%nat) ->
  (count (fun u => ~ differentiable (n_params net) (c1_eval (batch_net net B xs loss)) (word_vec u))
     (words M (n_params net))
   <= kink_total net * length M ^ (n_params net - 1))%nat.
Proof.
  intros Hwf Hb HM Heq; destruct B as [|B].
  - eapply Nat.le_trans;
      [apply (T6_batch_count_bound_reps net 0 xs loss [] Hwf Hb (fun j (H : In j []) => False_ind _ H)
                (fun i Hi => False_ind _ (Nat.nlt_0_r i Hi)) M HM)|].
    simpl; lia.
  - eapply Nat.le_trans;
      [apply (T6_batch_count_bound_reps net (S B) xs loss [0%nat] Hwf Hb); [| |exact HM]|].
    + intros j [<-|[]]; lia.
    + intros i Hi; exists 0%nat; split; [left; reflexivity | apply Heq, Hi].
    + simpl; lia.
Qed.

(** * The family y = b + x: structure *)

Section Family.
Variables (a : activation) (W B : nat) (x : nat -> R).
Hypothesis HW : (1 <= W)%nat.

Let base := bt_base a W.
Let bnet := batch_neurons base B (bt_xs x).

Lemma bt_base_wf : wf_neurons base.
Proof.
  intros k Hk; unfold base, bt_base, n_size in Hk; simpl in Hk; assert (k = 0%nat) as -> by lia.
  split; [intros j Hj; compute in Hj; tauto | intros p Hp; compute in Hp; simpl; lia].
Qed.

Lemma bt_bias : batch_bias base B (bt_xs x).
Proof.
  intros k Hk; unfold base, bt_base, n_size in Hk; simpl in Hk; assert (k = 0%nat) as -> by lia.
  exists 0%nat; intros i Hi; exists (EInput 0); repeat split.
  - simpl; lia.
  - unfold n_size; simpl; lia.
  - intros j Hj Hne; unfold n_size in Hj; simpl in Hj; lia.
  - intros Ho; exact Ho.
  - intros Ho; exact Ho.
  - intros Ho; exact Ho.
  - intros w z; simpl; ring.
Qed.

Lemma bt_kink_total : kink_total base = length (kinks a).
Proof. unfold kink_total, base, bt_base, n_size, sigma; cbn -[kinks]; lia. Qed.

Lemma bt_poly_wf : wf (bt_poly a W B x).
Proof.
  apply wf_with_out; [apply batch_wf, bt_base_wf | |].
  - intros j Hj; apply lin_out_neurons in Hj; rewrite batch_size; unfold n_size; simpl; lia.
  - intros p Hp; apply lin_out_no_param in Hp; contradiction.
Qed.

Lemma bt_post (w : vec) (i : nat) : (i < B)%nat ->
  post bnet w i = act_eval a (w 0%nat + x i).
Proof.
  intros Hi; replace i with (i * 1 + 0)%nat at 1 by lia.
  unfold bnet; rewrite batch_post by (exact bt_base_wf || exact Hi || (unfold base, n_size; simpl; lia)).
  reflexivity.
Qed.

Lemma bt_poly_eval (w : vec) :
  net_eval (bt_poly a W B x) w = sumn B (fun i => act_eval a (w 0%nat + x i)).
Proof.
  unfold bt_poly; rewrite net_eval_with_out, eval_lin_out.
  change (dot B (fun _ => 1) (zvec (batch_neurons (bt_base a W) B (bt_xs x)) w))
    with (sumn B (fun i => 1 * zvec (batch_neurons (bt_base a W) B (bt_xs x)) w i)).
  apply sumn_ext; intros i Hi.
  rewrite zvec_lt by (rewrite batch_size; unfold n_size; simpl; lia).
  fold base; fold bnet; rewrite bt_post by exact Hi; ring.
Qed.

End Family.

(* the sum loss of the family as a C1 output (C1Instance.v) *)
Definition bt_loss (a : activation) (W B : nat) (x : nat -> R) (HW : (1 <= W)%nat) :
  c1_output (n_params (bt_base a W)) (n_size (batch_neurons (bt_base a W) B (bt_xs x))) :=
  poly_output (bt_poly a W B x) (bt_poly_wf a W B x HW).

(* the batched network of the family *)
Definition bt_net (a : activation) (W B : nat) (x : nat -> R) (HW : (1 <= W)%nat) : c1_network :=
  batch_net (bt_base a W) B (bt_xs x) (bt_loss a W B x HW).

Lemma bt_eval (a : activation) (W B : nat) (x : nat -> R) (HW : (1 <= W)%nat) (w : vec) :
  c1_eval (bt_net a W B x HW) w = sumn B (fun i => act_eval a (w 0%nat + x i)).
Proof.
  unfold bt_net, batch_net.
  rewrite (proj1 (c1_with_out (batch_neurons (bt_base a W) B (bt_xs x)) (lin_out (fun _ => 1) B)
                    (bt_loss a W B x HW)) w).
  rewrite <- (bt_poly_eval a W B x HW); apply (c1_of_net_eval (bt_poly a W B x) (bt_poly_wf a W B x HW)).
Qed.

(** * The family: differentiability *)

Section Diff.
Variables (a : activation) (B : nat) (x : nat -> R).

Let phi (t : R) : R := sumn B (fun i => act_eval a (t + x i)).

Lemma shift_right_deriv (g : R -> R) (t0 s l : R) :
  right_deriv g (t0 + s) l -> right_deriv (fun t => g (t + s)) t0 l.
Proof.
  intros H eps Heps; destruct (H eps Heps) as [d [Hd K]]; exists d; split; [exact Hd|].
  intros t Ht; replace (t0 + t + s) with (t0 + s + t) by ring; apply K; exact Ht.
Qed.

Lemma shift_left_deriv (g : R -> R) (t0 s l : R) :
  left_deriv g (t0 + s) l -> left_deriv (fun t => g (t + s)) t0 l.
Proof.
  intros H eps Heps; destruct (H eps Heps) as [d [Hd K]]; exists d; split; [exact Hd|].
  intros t Ht; replace (t0 + t + s) with (t0 + s + t) by ring; apply K; exact Ht.
Qed.

Lemma phi_right_deriv (t0 : R) :
  right_deriv phi t0 (sumn B (fun i => slope_right a (t0 + x i))).
Proof.
  unfold phi; induction B as [|n IH].
  - apply (right_deriv_ext _ (fun _ => 0)); [intros; reflexivity | apply right_deriv_const].
  - apply (right_deriv_ext _ (fun t => sumn n (fun i => act_eval a (t + x i)) + act_eval a (t + x n))).
    { intros t; apply sumn_S. }
    rewrite sumn_S; apply right_deriv_plus; [exact IH|].
    apply shift_right_deriv, act_right_deriv.
Qed.

Lemma phi_left_deriv (t0 : R) :
  left_deriv phi t0 (sumn B (fun i => slope_left a (t0 + x i))).
Proof.
  unfold phi; induction B as [|n IH].
  - apply (left_deriv_ext _ (fun _ => 0)); [intros; reflexivity | apply left_deriv_const].
  - apply (left_deriv_ext _ (fun t => sumn n (fun i => act_eval a (t + x i)) + act_eval a (t + x n))).
    { intros t; apply sumn_S. }
    rewrite sumn_S; apply left_deriv_plus; [exact IH|].
    apply shift_left_deriv, act_left_deriv.
Qed.

Lemma bt_jump_eq (b : R) :
  bt_jump a B x b = sumn B (fun i => slope_right a (b + x i)) - sumn B (fun i => slope_left a (b + x i)).
Proof. unfold bt_jump, jump; apply sumn_minus. Qed.

(* where the jumps cancel, the gradient is (sum_i a'_+(w_0 + x_i)) e_0 *)
Lemma bt_diff_at (W : nat) (w : vec) : (1 <= W)%nat -> bt_jump a B x (w 0%nat) = 0 ->
  differentiable_at W (fun v => phi (v 0%nat)) w
    (vscale (sumn B (fun i => slope_right a (w 0%nat + x i))) (unit_vec 0)).
Proof.
  intros HW Hj; rewrite bt_jump_eq in Hj.
  apply (differentiable_at_comp W phi (fun v => v 0%nat)); [|apply differentiable_at_coord; lia].
  apply one_sided_derivable_pt_lim; [apply phi_right_deriv|].
  replace (sumn B (fun i => slope_right a (w 0%nat + x i)))
    with (sumn B (fun i => slope_left a (w 0%nat + x i))) by lra.
  apply phi_left_deriv.
Qed.

(* L (a function of w_0 only) is differentiable at w iff the total jump at w_0 is 0 *)
Lemma bt_ndf_iff (W : nat) (w : vec) : (1 <= W)%nat ->
  (~ differentiable W (fun v => phi (v 0%nat)) w <-> bt_jump a B x (w 0%nat) <> 0).
Proof.
  intros HW; rewrite bt_jump_eq; split.
  - intros Hnd Hj; apply Hnd.
    exists (vscale (sumn B (fun i => slope_right a (w 0%nat + x i))) (unit_vec 0)).
    apply (differentiable_at_comp W phi (fun v => v 0%nat)); [|apply differentiable_at_coord; lia].
    apply one_sided_derivable_pt_lim; [apply phi_right_deriv|].
    replace (sumn B (fun i => slope_right a (w 0%nat + x i)))
      with (sumn B (fun i => slope_left a (w 0%nat + x i))) by lra.
    apply phi_left_deriv.
  - intros Hj; apply (one_sided_differ_not_differentiable W _ w 0
      (sumn B (fun i => slope_right a (w 0%nat + x i))) (sumn B (fun i => slope_left a (w 0%nat + x i))));
      [lia | | | lra].
    + apply (right_deriv_ext _ (fun t => phi (w 0%nat + t))); [intros t; rewrite Vec.upd_same; reflexivity|].
      apply right_deriv_shift, phi_right_deriv.
    + apply (left_deriv_ext _ (fun t => phi (w 0%nat + t))); [intros t; rewrite Vec.upd_same; reflexivity|].
      apply left_deriv_shift, phi_left_deriv.
Qed.

End Diff.

(** * The family: exact counts *)

(* |ndf_M(L)| = |{b in M : sum_i (a'_+ - a'_-)(b + x_i) <> 0}| |M|^(W-1) *)
Theorem T6_batch_family_count (a : activation) (W B : nat) (x : nat -> R) (M : list R)
  (HW : (1 <= W)%nat) :
  count (fun u => ~ differentiable W (c1_eval (bt_net a W B x HW)) (word_vec u)) (words M W) =
  (count (fun b => bt_jump a B x b <> 0%R) M * length M ^ (W - 1))%nat.
Proof.
  rewrite <- (count_first_letter M W (fun b => bt_jump a B x b <> 0) HW).
  apply count_ext; intros u _; change (nth 0 u 0) with (word_vec u 0%nat).
  rewrite <- (bt_ndf_iff a B x W (word_vec u) HW).
  split; intros Hnd [g Hg]; apply Hnd; exists g; eapply differentiable_at_ext; try exact Hg;
    intros v; [|symmetry]; apply bt_eval.
Qed.

Lemma sumn_zero (n : nat) : sumn n (fun _ => 0) = 0.
Proof. induction n as [|n IH]; [reflexivity|]; rewrite sumn_S, IH; ring. Qed.

Lemma sumn_single (n i : nat) (f : nat -> R) :
  (i < n)%nat -> (forall j, (j < n)%nat -> j <> i -> f j = 0) -> sumn n f = f i.
Proof.
  induction n as [|n IH]; intros Hi H; [lia|]; rewrite sumn_S.
  destruct (Nat.eq_dec i n) as [->|Hne].
  - rewrite (sumn_ext n f (fun _ => 0)), sumn_zero; [ring|].
    intros j Hj; apply H; lia.
  - rewrite IH, (H n); [ring | lia | lia | lia |]; intros j Hj Hji; apply H; lia.
Qed.

Lemma sumn_nonzero (n : nat) (f : nat -> R) :
  sumn n f <> 0 -> exists j, (j < n)%nat /\ f j <> 0.
Proof.
  induction n as [|n IH]; intros H.
  - exfalso; apply H; reflexivity.
  - rewrite sumn_S in H; destruct (Req_dec (f n) 0) as [Hn|Hn].
    + destruct IH as [j [Hj Hf]]; [lra|]; exists j; split; [lia | exact Hf].
    + exists n; split; [lia | exact Hn].
Qed.

Lemma jump_nonzero_kink (a : activation) (c : R) : jump a c <> 0 -> is_kink a c.
Proof.
  intros H; apply NNPP; intros Hk; apply H; unfold jump; rewrite (not_kink_slopes a c Hk); ring.
Qed.

Lemma jump_kink_nonzero (a : activation) (c : R) : is_kink a c -> jump a c <> 0.
Proof. intros [_ H]; unfold jump; lra. Qed.

(* the values c - x_i of b that put some copy on a kink *)
Definition bt_kink_values (a : activation) (B : nat) (x : nat -> R) : list R :=
  flat_map (fun i => map (fun c => c - x i) (kinks a)) (seq 0 B).

Lemma In_bt_kink_values (a : activation) (B : nat) (x : nat -> R) (b : R) :
  In b (bt_kink_values a B x) <-> exists i, (i < B)%nat /\ is_kink a (b + x i).
Proof.
  unfold bt_kink_values; rewrite in_flat_map; split.
  - intros [i [Hi Hb]]; apply in_seq in Hi; apply in_map_iff in Hb as [c [<- Hc]].
    exists i; split; [lia|]; apply kinks_spec; replace (c - x i + x i) with c by ring; exact Hc.
  - intros [i [Hi Hk]]; exists i; split; [apply in_seq; lia|].
    apply in_map_iff; exists (b + x i); split; [ring | apply kinks_spec, Hk].
Qed.

Lemma map_shift_NoDup (l : list R) (s : R) : NoDup l -> NoDup (map (fun c => c - s) l).
Proof.
  apply Injective_map_NoDup; intros u v H; lra.
Qed.

Lemma bt_kink_values_NoDup (a : activation) (B : nat) (x : nat -> R) :
  (forall i j c c', (i < B)%nat -> (j < B)%nat -> is_kink a c -> is_kink a c' ->
     c - x i = c' - x j -> i = j) ->
  NoDup (bt_kink_values a B x) /\ length (bt_kink_values a B x) = (B * length (kinks a))%nat.
Proof.
  induction B as [|n IH]; intros Hinj; [split; [constructor | reflexivity]|].
  unfold bt_kink_values; rewrite seq_S, flat_map_app; simpl flat_map; rewrite app_nil_r.
  fold (bt_kink_values a n x).
  destruct IH as [Hnd Hlen]; [intros i j c c' Hi Hj; apply Hinj; lia|].
  split; [|rewrite app_length, Hlen, map_length; lia].
  apply NoDup_app_disjoint; [exact Hnd | apply map_shift_NoDup, kinks_NoDup|].
  intros b Hb Hb'; apply In_bt_kink_values in Hb as [i [Hi Hk]].
  apply in_map_iff in Hb' as [c [Hc Hcin]]; apply kinks_spec in Hcin.
  assert (i = n); [|lia].
  apply (Hinj i n (b + x i) c); try lia; try assumption; rewrite <- Hc; ring.
Qed.

(* T6_batch_bound_tight: when the B m values c - x_i are distinct and lie in
   M, |ndf_M(L)| = B m |M|^(W-1) = B n |M|^(W-1), the batched bound *)
Theorem T6_batch_bound_tight (a : activation) (W B : nat) (x : nat -> R) (M : list R)
  (HW : (1 <= W)%nat) : NoDup M ->
  (forall i j c c', (i < B)%nat -> (j < B)%nat -> is_kink a c -> is_kink a c' ->
     c - x i = c' - x j -> i = j) ->
  (forall i c, (i < B)%nat -> is_kink a c -> In (c - x i) M) ->
  count (fun u => ~ differentiable W (c1_eval (bt_net a W B x HW)) (word_vec u)) (words M W) =
  (B * kink_total (bt_base a W) * length M ^ (W - 1))%nat.
Proof.
  intros HM Hinj HinM.
  rewrite T6_batch_family_count, (bt_kink_total a W HW).
  destruct (bt_kink_values_NoDup a B x Hinj) as [Hnd Hlen].
  rewrite <- Hlen, <- (count_In_incl (bt_kink_values a B x) M Hnd HM).
  - f_equal; apply count_ext; intros b _; rewrite In_bt_kink_values; split.
    + intros Hj; destruct (sumn_nonzero B _ Hj) as [i [Hi Hji]].
      exists i; split; [exact Hi | apply jump_nonzero_kink, Hji].
    + intros [i [Hi Hk]]; unfold bt_jump; rewrite (sumn_single B i) by
        (exact Hi || (intros j Hj Hji; apply NNPP; intros Hnz;
                      apply Hji, (Hinj j i (b + x j) (b + x i)); try assumption; try ring;
                      apply jump_nonzero_kink, Hnz)).
      apply jump_kink_nonzero, Hk.
  - intros b Hb; apply In_bt_kink_values in Hb as [i [Hi Hk]].
    replace b with (b + x i - x i) by ring; apply HinM; assumption.
Qed.

(* with B >= 1 equal inputs x_i = x_0 the count is m |M|^(W-1) (the c - x_0
   in M): the factor B of the bound is not reached *)
Theorem T6_batch_family_equal_inputs (a : activation) (W B : nat) (x : nat -> R) (M : list R)
  (HW : (1 <= W)%nat) : (1 <= B)%nat -> NoDup M ->
  (forall i, (i < B)%nat -> x i = x 0%nat) ->
  (forall c, is_kink a c -> In (c - x 0%nat) M) ->
  count (fun u => ~ differentiable W (c1_eval (bt_net a W B x HW)) (word_vec u)) (words M W) =
  (kink_total (bt_base a W) * length M ^ (W - 1))%nat.
Proof.
  intros HB HM Heq HinM.
  rewrite T6_batch_family_count, (bt_kink_total a W HW).
  rewrite <- (map_length (fun c => c - x 0%nat) (kinks a)).
  rewrite <- (count_In_incl (map (fun c => c - x 0%nat) (kinks a)) M) by
    (apply map_shift_NoDup, kinks_NoDup || exact HM ||
     (intros b Hb; apply in_map_iff in Hb as [c [<- Hc]]; apply HinM, kinks_spec, Hc)).
  f_equal; apply count_ext; intros b _.
  assert (Hj : bt_jump a B x b = INR B * jump a (b + x 0%nat)).
  { unfold bt_jump; rewrite (sumn_ext B _ (fun _ => jump a (b + x 0%nat)))
      by (intros i Hi; rewrite Heq by exact Hi; reflexivity).
    clear -B; induction B as [|n IH]; [unfold sumn, sum_list; simpl; ring|].
    rewrite sumn_S, IH, S_INR; ring. }
  rewrite Hj, in_map_iff; split.
  - intros H; exists (b + x 0%nat); split; [ring|].
    apply kinks_spec, jump_nonzero_kink; intros H0; apply H; rewrite H0; ring.
  - intros [c [<- Hc]]; replace (c - x 0%nat + x 0%nat) with c by ring.
    apply Rmult_integral_contrapositive; split.
    + apply not_0_INR; lia.
    + apply jump_kink_nonzero, kinks_spec, Hc.
Qed.
